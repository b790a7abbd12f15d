"""The model stages: annotation rules (annotate) and bitext mining (bitexts), model-free parts."""
