"""Home: the course map, a card per lesson."""

import streamlit as st

from app.lessons import lessons_by_section
from app.sidebar import current_device
from models.device import device_label

st.title("🧪 NLP Playground")
st.markdown(
    "See how language models work by **running and training small models live**, on "
    f"this machine's **{device_label(current_device())}**. Every number on screen comes from a real "
    "computation on real data: a pretrained SmolLM2 and MiniLM, a Wikipedia sample, news text and "
    "classic evaluation sets, all offline."
)
for section, lessons in lessons_by_section().items():
    st.subheader(section)
    cols = st.columns(min(3, len(lessons)))
    for i, lesson in enumerate(lessons):
        with cols[i % len(cols)].container(border=True):
            st.markdown(f"### {lesson.icon} {lesson.title}")
            st.caption(lesson.lecture)
            st.write(lesson.summary)
            st.page_link(str(lesson.page_path), label="Open the lesson", icon="➡️")
st.divider()
st.caption(
    "Tips for lecturers: turn on **Presenter mode** in the sidebar for large fonts; every lesson's settings "
    "live in the URL, so copy the address bar to share exactly what is on screen; each lesson has presets "
    "for lecture demos, CSV/JSON export under its charts and a Pin button to compare two runs."
)
