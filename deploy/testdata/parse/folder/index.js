exports.main = p => p
