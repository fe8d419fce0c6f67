// head returns the first "num" (default 1) elements of the array "lines".
function main(params) {
  const lines = params.lines || [];
  const num = params.num || 1;
  const head = lines.slice(0, num);
  console.log("head: first " + num + " of " + lines.length + " lines");
  return { lines: head, num: num };
}
