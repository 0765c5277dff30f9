"""The matplotlib style files shipped with triad (:mod:`triad.style`)."""
