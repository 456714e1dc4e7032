//! fdfat-export
