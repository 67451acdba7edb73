//! Layers, activations and losses (filled by the nn issue).
