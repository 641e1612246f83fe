"""Plotly figure builders: plain data in, ``go.Figure`` out. No Streamlit here.

* :mod:`~ntm.figures.style`: colour scales, fonts, axes and cell labels shared by every figure;
* :mod:`~ntm.figures.addressing`: one head's weightings, memory, kernel, read and write;
* :mod:`~ntm.figures.playground`: the playground's figure set, from one computed state;
* :mod:`~ntm.figures.episode`: a trained model's run, step by step and as a whole;
* :mod:`~ntm.figures.evaluation`: the generalisation page's charts.
"""
