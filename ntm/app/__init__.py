"""Page helpers for the Streamlit explorer: the only part of ``ntm`` that imports streamlit."""
