package zones

import (
	"path"
	"strings"
)

// globIndex finds the first glob (in file order) that matches a name
// without trying every glob: globs are filed in a trie under their literal
// prefix (what comes before the first wildcard), and a name only meets the
// globs whose prefix it starts with. With thousands of globs a query costs
// a walk of the name's first bytes and a few path.Match calls.
type globIndex struct {
	globs []globRule // in file order: the first that matches wins
	root  globNode
}

// globNode is one byte of literal prefixes; here holds the globs (their
// positions in globs) whose literal prefix ends at this node.
type globNode struct {
	here  []int
	bytes []byte // children's bytes, parallel to next
	next  []*globNode
}

func (n *globNode) child(c byte, create bool) *globNode {
	for i, b := range n.bytes {
		if b == c {
			return n.next[i]
		}
	}
	if !create {
		return nil
	}
	child := &globNode{}
	n.bytes = append(n.bytes, c)
	n.next = append(n.next, child)
	return child
}

func (x *globIndex) add(g globRule) {
	pos := len(x.globs)
	x.globs = append(x.globs, g)
	n := &x.root
	literal := g.pattern
	if i := strings.IndexAny(literal, `*?[\`); i >= 0 {
		literal = literal[:i]
	}
	for i := 0; i < len(literal); i++ {
		n = n.child(literal[i], true)
	}
	n.here = append(n.here, pos)
}

// match returns the first glob in file order that matches name. It
// allocates nothing.
func (x *globIndex) match(name string) (globRule, bool) {
	best := -1
	n := &x.root
	for i := 0; n != nil; i++ {
		for _, pos := range n.here {
			if best >= 0 && pos >= best {
				break // here is in file order: the rest come later still
			}
			if ok, _ := path.Match(x.globs[pos].pattern, name); ok {
				best = pos
				break
			}
		}
		if i == len(name) {
			break
		}
		n = n.child(name[i], false)
	}
	if best < 0 {
		return globRule{}, false
	}
	return x.globs[best], true
}
