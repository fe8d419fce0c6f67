function main(p) { return p }
