//! fdfat-train
