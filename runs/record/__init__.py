"""The measured record (observations) and the likelihood of a model given it."""
