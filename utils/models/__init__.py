"""Models of the generative half: the language model (the profile's, or the world LM built here), connectors, VLMs."""
