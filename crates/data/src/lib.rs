//! fdfat-data
