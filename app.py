"""RNN Lab: the router. Every page lives in ``pages/``; this file only lists them."""

import streamlit as st

from pages.common import keep_keras_state_between_reruns

keep_keras_state_between_reruns()
st.set_page_config(page_title="RNN Lab", page_icon="🔁", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
]

st.navigation(PAGES).run()
