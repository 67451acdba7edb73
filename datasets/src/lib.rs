//! Data sets, loaders and batching (filled by the datasets issue).
