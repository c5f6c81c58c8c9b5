"""RNN Lab: the router. Every page lives in ``pages/``; this file only lists them."""

import streamlit as st

from pages._chrome import sidebar_chrome
from pages._compat import keep_keras_state_between_reruns
from pages._form import note_page
from pages._tabs import attach_tab
from pages.common import prepare_training, settle_started_runs
from rnn_core.engine.memory import protect_server
from rnn_core.engine.pool import warm_workers

keep_keras_state_between_reruns()
protect_server()  # if memory runs out, the kernel kills a training, not this server
st.set_page_config(page_title="RNN Lab", page_icon="🔁", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/stepper.py", title="Inside the RNN", icon=":material/timeline:"),
    st.Page("pages/text.py", title="Text generation", icon=":material/edit_note:"),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/school:"),
    st.Page("pages/board.py", title="Board", icon=":material/leaderboard:"),
]

LIVE_PAGES = {"train", "text"}  # pages with their own live panel and Stop button
page = st.navigation(PAGES)
note_page(page.url_path)  # a page just entered reads its address bar as a link, once
attach_tab()  # this browser tab's key in the address bar; a reload gets the tab's runs back
sidebar_chrome(live_page=page.url_path in LIVE_PAGES)
with settle_started_runs():  # a run started just now that ends within 0.6 s: its results at once
    page.run()
warm_workers()  # after the first page is drawn: training workers import TensorFlow meanwhile
prepare_training()  # and so does this server, in a thread: a first Start need not wait
