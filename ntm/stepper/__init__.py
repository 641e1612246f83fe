"""The model stepper's data: one recorded run (:mod:`.episode`), its narrated reading
(:mod:`.narration`), its downloads (:mod:`.export`), the time cursor (:mod:`.playback`) and the
link's parameters (:mod:`.url`). No Streamlit here."""
