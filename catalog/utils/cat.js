// cat joins the array "lines" into "payload", one line per element.
function main(params) {
  const lines = params.lines || [];
  const result = { lines: lines, payload: lines.join("\n") };
  console.log("cat: returning " + JSON.stringify(result));
  return result;
}
