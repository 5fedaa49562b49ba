package jsonscan

import (
	"errors"
	"sync"
)

// ErrNotObject is ParseObject's error for valid JSON that is not an object.
var ErrNotObject = errors.New("the body must be a JSON object")

// Object is an order-preserving editable view of a JSON object's top level. Values are raw
// bytes: a member nobody touches is written back exactly as it came (key, colon and the
// whitespace between them included); only the whitespace between members is dropped. Keys are
// compared unescaped; a repeated key reads as its last occurrence, as in encoding/json.
type Object struct {
	members []member
	changed bool
}

// member is one key/value pair: key is the raw key without quotes (escapes kept), val the raw
// value, and head the source bytes from the key's opening quote to the value (nil when the key
// was set or renamed here, then written as "key":).
type member struct {
	key, val, head []byte
}

// ParseObject validates b and splits the top level of the object in it in one pass (surrounding
// whitespace allowed). It returns ErrSyntax for invalid JSON and ErrNotObject for any other
// value. The Object refers to b, which must not change while the Object is used.
func ParseObject(b []byte) (*Object, error) {
	i := SkipSpace(b, 0)
	if i >= len(b) {
		return nil, ErrSyntax
	}
	if b[i] != '{' {
		if Validate(b) != nil {
			return nil, ErrSyntax
		}
		return nil, ErrNotObject
	}
	o := objectPool.Get().(*Object)
	end, err := ScanObject(b, i, 0, func(key []byte, v int) (int, error) {
		end, err := SkipValue(b, v, 1)
		if err == nil {
			// key is b[q+1 : ...] for the key's opening quote q, so q follows from its capacity.
			q := cap(b) - cap(key) - 1
			o.members = append(o.members, member{key: key, val: b[v:end], head: b[q:v]})
		}
		return end, err
	})
	if err != nil {
		o.Release()
		return nil, err
	}
	if SkipSpace(b, end) != len(b) {
		o.Release()
		return nil, ErrSyntax
	}
	return o, nil
}

// Objects come from a pool, with room for sixteen members (the top level of nearly every
// request): a caller on the request path gives its Object back with Release when done.
var objectPool = sync.Pool{New: func() any { return &Object{members: make([]member, 0, 16)} }}

// maxPooledMembers bounds the member room an Object keeps in the pool.
const maxPooledMembers = 64

// Release gives o back for a later ParseObject. Neither o nor anything it returned but the
// source bytes (values are slices of them) and Bytes' result may be used after. Calling it is
// optional: an Object never released is collected as any other value.
func (o *Object) Release() {
	if cap(o.members) > maxPooledMembers {
		return
	}
	clear(o.members) // no reference to the source bytes stays in the pool
	o.members, o.changed = o.members[:0], false
	objectPool.Put(o)
}

// Len is the number of members, repeated keys counted each time.
func (o *Object) Len() int { return len(o.members) }

// Each calls fn with the raw key (no quotes, escapes kept) and raw value of each member, in
// order, until fn returns false.
func (o *Object) Each(fn func(key, val []byte) bool) {
	for _, m := range o.members {
		if !fn(m.key, m.val) {
			return
		}
	}
}

// Get returns the raw value of k (the last occurrence), or nil.
func (o *Object) Get(k string) []byte {
	for i := len(o.members) - 1; i >= 0; i-- {
		if KeyIs(o.members[i].key, k) {
			return o.members[i].val
		}
	}
	return nil
}

// Has reports whether k is present.
func (o *Object) Has(k string) bool { return o.Get(k) != nil }

// Changed reports whether Set, Del or Rename changed anything since ParseObject.
func (o *Object) Changed() bool { return o.changed }

// Set replaces the value of k in place (dropping earlier duplicates) or appends k. val must be
// one valid JSON value and a new k a key that needs no escaping; both are written as given.
func (o *Object) Set(k string, val []byte) {
	o.changed = true
	found := false
	for i := len(o.members) - 1; i >= 0; i-- {
		if !KeyIs(o.members[i].key, k) {
			continue
		}
		if !found {
			o.members[i].val = val
			found = true
			continue
		}
		o.members = append(o.members[:i], o.members[i+1:]...)
	}
	if !found {
		o.members = append(o.members, member{key: []byte(k), val: val})
	}
}

// Del removes every occurrence of k and reports whether there was one.
func (o *Object) Del(k string) bool {
	n := 0
	for _, m := range o.members {
		if !KeyIs(m.key, k) {
			o.members[n] = m
			n++
		}
	}
	removed := n != len(o.members)
	o.members = o.members[:n]
	if removed {
		o.changed = true
	}
	return removed
}

// Rename moves the value of from to the key to, keeping its position, unless to is already set,
// in which case from is just dropped. Nothing happens when from is absent.
func (o *Object) Rename(from, to string) {
	if o.Get(from) == nil {
		return
	}
	if o.Has(to) {
		o.Del(from)
		return
	}
	last := -1
	for i := range o.members {
		if KeyIs(o.members[i].key, from) {
			last = i
		}
	}
	o.members[last].key, o.members[last].head = []byte(to), nil
	o.Del(from) // earlier duplicates
	o.changed = true
}

// size is an upper bound of the encoded length.
func (o *Object) size() int {
	n := 2
	for _, m := range o.members {
		n += len(m.head) + len(m.key) + len(m.val) + 4
	}
	return n
}

// AppendTo appends the object to dst: members in order, separated by commas, each as it came
// (or "key":value when set here), and returns the extended slice.
func (o *Object) AppendTo(dst []byte) []byte {
	dst = append(dst, '{')
	for i, m := range o.members {
		if i > 0 {
			dst = append(dst, ',')
		}
		if m.head != nil {
			dst = append(dst, m.head...)
		} else {
			dst = append(dst, '"')
			dst = append(dst, m.key...)
			dst = append(dst, '"', ':')
		}
		dst = append(dst, m.val...)
	}
	return append(dst, '}')
}

// Bytes encodes the object into a new slice.
func (o *Object) Bytes() []byte { return o.AppendTo(make([]byte, 0, o.size())) }
