"""The `mathtune solve` command: a trained model answering one problem or a file of them."""
