// enrich gets a document that /whisk.system/couchdb/read returned (the
// previous action of the sequence) and returns the parameters of
// /whisk.system/couchdb/write, the next one: the document with a few fields
// added, written under the same _id to the enriched database, replacing an
// earlier version (overwrite), so that every change of the source shows.
function main(doc) {
  const { _rev, ...out } = doc;   // the source's revision means nothing in the target
  if (typeof doc.celsius === 'number') {
    out.fahrenheit = Math.round((doc.celsius * 9 / 5 + 32) * 10) / 10;
  }
  out.enriched = true;
  out.sourceRev = _rev;
  out.enrichedAt = new Date().toISOString();
  console.log(`enriched ${doc._id} (revision ${_rev})`);
  return { doc: out, overwrite: true };
}
