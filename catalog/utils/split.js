// split splits the string "payload" at "separator" (a string; default: line
// breaks) into "lines".
function main(params) {
  const separator = params.separator || /\r?\n/;
  const payload = String(params.payload === undefined ? "" : params.payload);
  const lines = payload.split(separator);
  return { lines: lines, payload: payload };
}
