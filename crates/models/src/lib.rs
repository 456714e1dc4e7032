//! fdfat-models
