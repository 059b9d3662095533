"""Budget planning on a model run's response curves: where the next euro of media goes.

``curves`` evaluates each channel's response curve (points, Hill or logistic, one curve or
one per posterior draw); ``allocation`` finds the spend per channel for a goal; ``plans``
turns an allocation into the figures a marketing team reads, with their intervals.
"""
