"""Lessons: the seed tutorials as guided steps; each loads a preset on the page that runs it."""

import streamlit as st

from pages.common import runs, show_code
from rnn_core.lessons import LESSONS, best_validation, lesson_presets, same_setup


def your_result(spec) -> str:
    """The user's own best figure for runs with this preset's data and model, if any."""
    mine = [r for r in runs() if same_setup(r.spec, spec)]
    if not mine:
        return "not run yet in this session"
    parts = []
    for record in mine:
        test = record.results
        history = record.job.history()
        best = best_validation(history)
        figure = []
        if test is not None:  # e.g. "test accuracy 0.771" or "exact match 0.990"
            label, value = test.headline
            figure.append(f"{label} {value:.3f}")
        if best is not None:
            figure.append(f"best {best[0]} {best[1]:.3f}")
        if history.get("seconds"):  # cumulative training wall at the last epoch
            figure.append(f"{history['seconds'][-1]:.0f} s of training")
        epochs = record.job.snapshot().epoch
        parts.append(f"{record.name}, {epochs} epochs: " + (", ".join(figure) or "no epoch yet"))
    return "; ".join(parts)


st.title("Lessons")
st.caption(
    f"{len(LESSONS)} short experiments, from the seed tutorials and the fast presets. Each "
    "button opens the page with the "
    "preset loaded; press Start there. Come back here to see your result beside the source's "
    "(a run counts for a preset when its data, model and training settings are the preset's; "
    "the number of epochs it trained is shown with it)."
)

for lesson in LESSONS:
    with st.container(border=True):
        st.subheader(lesson.title)
        st.markdown(lesson.story)
        for preset in lesson_presets(lesson):
            left, right = st.columns([3, 2])
            left.markdown(f"**{preset.title}**")
            left.caption(preset.results_line())
            left.caption(f"Your result: {your_result(preset.spec)}")
            if right.button(
                f"Open `{preset.name}`",
                key=f"lesson_{lesson.key}_{preset.name}",
                icon=":material/play_arrow:",
            ):  # in this session: its runs stay, so the lesson's runs can be compared
                st.switch_page(lesson.page, query_params={"preset": preset.name})
        if not lesson.presets:
            st.page_link(lesson.page, label="Open the page", icon=":material/play_arrow:")
        st.markdown(f"*Look for:* {lesson.look_for}")

show_code(lesson_presets, same_setup, best_validation)
