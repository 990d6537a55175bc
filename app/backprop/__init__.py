"""The Backprop view's data: one forward and backward pass of a run, every number of it."""
