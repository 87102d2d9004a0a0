"""Models shared by every step: loading base models, tokenizers and adapters from the three
sources, the chat prompt, and batched generation."""
