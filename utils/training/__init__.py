"""Training: `loops` (contrastive and loss-returning models), `losses` (CLIP's and SigLIP's), `stages` (a VLM's
training stages over (image, prompt, answer) examples)."""
