"""Streamlit pages of RNN Lab; ``common`` holds the helpers they share."""
