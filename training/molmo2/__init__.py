"""The `molmo2` model family: transformers-native Molmo2 (`Molmo2ForConditionalGeneration`) trained on our releases and exported in its own folder format."""
