"""What the offline profile builds for itself, in place of the Hub's weights: `world_clip` (the CLIPs pre-trained on
the two worlds; `python -m utils.offline.world_clip`), `world_lm` and `world_tokenizer` (the tiny Llama pre-trained
on world text; `python -m utils.offline.world_lm`)."""
