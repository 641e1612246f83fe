"""The Lessons page without Streamlit: a guided, predict-then-reveal walk through NTM addressing.

* :mod:`.steps`: the lesson as data, ten :class:`~.steps.Step` values (:data:`~.steps.STEPS`);
* :mod:`.controls`: the controls a step may show, and how they become playground settings;
* :mod:`.scenes`: what a step computes (a playground state, the copy model's run, the stored
  evaluations);
* :mod:`.questions`: the three kinds of question, answers, verdicts;
* :mod:`.feedback`: the sentence that explains the gap between a guess and the truth;
* :mod:`.links`: the lesson's URL (place, answers, score, display) and a teacher's link (hidden
  and locked controls), parsed and checked; the QR code of a link;
* :mod:`.panels`: a step's figures with their one-sentence text alternatives, and the guess
  beside the truth;
* :mod:`.scoring`: the score from the verdicts.
"""
