"""Matplotlib style files shipped with triad (see triad.style)."""
