package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/wispio/wisp/store"
)

// appendEntityKey appends ns 0x00 collection 0x00 name to dst.
func appendEntityKey(dst []byte, ns string, c store.Collection, name string) []byte {
	dst = append(dst, ns...)
	dst = append(dst, 0)
	dst = append(dst, c...)
	dst = append(dst, 0)
	return append(dst, name...)
}

// encodeEntity lays out an entity value: len(rev), rev, doc.
func encodeEntity(rev string, doc []byte) []byte {
	v := make([]byte, 0, 1+len(rev)+len(doc))
	v = append(v, byte(len(rev)))
	v = append(v, rev...)
	return append(v, doc...)
}

var errCorrupt = errors.New("corrupt record")

// splitEntity returns the revision and document of an entity value; both
// alias v.
func splitEntity(v []byte) (rev, doc []byte, err error) {
	if len(v) == 0 || len(v) < 1+int(v[0]) {
		return nil, nil, errCorrupt
	}
	n := 1 + int(v[0])
	return v[1:n], v[n:], nil
}

// nextRev returns the revision after cur ("" for a new entity). seq is a
// store-wide sequence number that makes the hash unique.
func nextRev(cur string, seq uint64, doc []byte) string {
	n := 0
	if num, _, ok := strings.Cut(cur, "-"); ok {
		n, _ = strconv.Atoi(num)
	}
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	h.Write(b[:])
	h.Write(doc)
	sum := h.Sum(nil)
	return strconv.Itoa(n+1) + "-" + hex.EncodeToString(sum[:8])
}

// appendTime appends start as 8 bytes whose byte order is numeric order.
func appendTime(dst []byte, start int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(start)^(1<<63))
}

// nsPrefix returns ns 0x00, the start of a namespace's activation range.
func nsPrefix(ns string) []byte {
	return append([]byte(ns), 0)
}

// namePrefix returns ns 0x00 name 0x00, the start of one entity's range in
// activationsByName.
func namePrefix(ns, name string) []byte {
	p := make([]byte, 0, len(ns)+len(name)+2)
	p = append(p, ns...)
	p = append(p, 0)
	p = append(p, name...)
	return append(p, 0)
}

// activationKey returns ns 0x00 t8 id.
func activationKey(ns string, start int64, id string) []byte {
	k := make([]byte, 0, len(ns)+1+8+len(id))
	k = append(k, ns...)
	k = append(k, 0)
	k = appendTime(k, start)
	return append(k, id...)
}

// nameKey returns the activationsByName key of the activation stored under
// actKey with the given name: ns 0x00 name 0x00 t8 id.
func nameKey(actKey []byte, name string) []byte {
	nsEnd := bytes.IndexByte(actKey, 0)
	k := make([]byte, 0, len(actKey)+len(name)+1)
	k = append(k, actKey[:nsEnd+1]...)
	k = append(k, name...)
	k = append(k, 0)
	return append(k, actKey[nsEnd+1:]...)
}

// encodeIDEntry lays out an activationIDs value: uvarint len(name), name,
// activations key.
func encodeIDEntry(name string, actKey []byte) []byte {
	v := make([]byte, 0, binary.MaxVarintLen64+len(name)+len(actKey))
	v = binary.AppendUvarint(v, uint64(len(name)))
	v = append(v, name...)
	return append(v, actKey...)
}

// decodeIDEntry splits an activationIDs value; actKey aliases v.
func decodeIDEntry(v []byte) (name string, actKey []byte, err error) {
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return "", nil, errCorrupt
	}
	return string(v[w : w+int(n)]), v[w+int(n):], nil
}

// prefixEnd returns the smallest key above every key starting with p, whose
// last byte is the 0x00 separator.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	end[len(end)-1]++
	return end
}
