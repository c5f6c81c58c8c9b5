"""Home: what RNN Lab is, the four shapes of recurrent networks, and where to try each."""

import streamlit as st

from rnn_core.tasks.text import TEXT_SHAPE

st.title("RNN Lab")
st.markdown(
    """
Learn recurrent neural networks by **training them live**. Pick a cell — SimpleRNN, LSTM or
GRU — choose its size, press *Start*, and watch the loss and accuracy curves move while the
model learns. Stop at any time; the weights you have so far are kept, and you can train more.
Every number on screen is computed from the model you trained in this browser session.
"""
)

st.subheader("Four shapes of sequence model")
cols = st.columns(4)
SHAPES = [
    (
        "One to one",
        "One input, one output, no sequence: a plain feed-forward network.",
        "□ → □",
        "The Dense baseline that the RNNs are compared against.",
    ),
    (
        "One to many",
        "One input, a sequence out: the output of each step is fed back in.",
        "□ → □□□",
        f"Text generation: {TEXT_SHAPE}.",
    ),
    (
        "Many to one",
        "A sequence in, one answer out from the final hidden state.",
        "□□□ → □",
        "Sentiment of a review read word by word; a digit read row by row.",
    ),
    (
        "Many to many",
        "A sequence in, another sequence out (encoder → decoder).",
        "□□□ → □□",
        "Addition: the model reads 535+61 and writes 596.",
    ),
]
for col, (name, what, arrow, example) in zip(cols, SHAPES, strict=True):
    with col, st.container(border=True):
        st.markdown(f"**{name}**")
        st.markdown(f"### `{arrow}`")
        st.caption(what)
        st.markdown(f"*In RNN Lab:* {example}")

st.subheader("Start here")
LINKS = [
    ("pages/train.py", "Train: addition, IMDB sentiment, MNIST digits by rows", "model_training"),
    ("pages/stepper.py", "Inside the RNN: step through the hidden state", "timeline"),
    ("pages/text.py", "Text generation: a character LSTM and temperature", "edit_note"),
    ("pages/lessons.py", "Lessons: the seed tutorials as guided experiments", "school"),
    ("pages/board.py", "Board: a class's hand-ins, ranked, with their curves", "leaderboard"),
]
for path, label, icon in LINKS:
    st.page_link(path, label=label, icon=f":material/{icon}:")
st.caption(
    "Training runs in the background of your session: switch pages and come back, "
    "it keeps going (the sidebar shows it, with a Stop button). Runs you make are kept so you "
    "can compare SimpleRNN, LSTM and GRU."
)
