"""The model stepper's data: one recorded run (:mod:`.episode`), its narrated reading
(:mod:`.narration`) and its downloads (:mod:`.export`). No Streamlit here."""
