//! Optimizers, regularizers and schedules (filled by the optim issue).
