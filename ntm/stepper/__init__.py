"""The model stepper's data: one recorded run (:mod:`.episode`), its narrated reading
(:mod:`.narration`), its downloads (:mod:`.export`), what the browser's trace player receives
(:mod:`.player`), the play speeds and the opening step (:mod:`.playback`) and the link's
parameters (:mod:`.url`). No Streamlit here."""
