// sort sorts the array "lines" (JavaScript's default order) and reports its length.
function main(params) {
  const lines = params.lines || [];
  console.log("sort before: " + lines);
  lines.sort();
  console.log("sort after: " + lines);
  return { lines: lines, length: lines.length };
}
