"""Who said it: speaker embeddings, clerk voice profiles and per-utterance attribution."""
