//! fdfat-eval
