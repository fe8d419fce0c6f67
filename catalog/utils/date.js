// date returns the current date and time as an ISO 8601 string.
function main() {
  const now = new Date();
  console.log("It is now " + now);
  return { date: now.toISOString() };
}
