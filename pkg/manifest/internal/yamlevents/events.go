// Package yamlevents is the YAML scanner and parser of go.yaml.in/yaml/v3
// v3.0.4 (itself a port of libyaml; see LICENSE and NOTICE), unchanged but
// for the emitter, which is left out, and this file. It exposes the event
// stream only, so that kseal can learn what a document is — its kind, how
// many nodes it holds, whether it is a list of objects — in memory bounded
// by its nesting depth, before deciding to build its node tree.
package yamlevents

import (
	"fmt"
)

// Header is the apiVersion and kind of an object (a mapping).
type Header struct {
	APIVersion, Kind string
	Duplicate        bool // apiVersion or kind appears twice
	Merge            bool // a merge key (<<), which could supply either
}

// Summary describes one YAML stream without keeping any of it.
type Summary struct {
	Documents int // YAML documents in the stream
	Nodes     int // scalars, sequences, mappings and aliases
	Aliases   int // aliases and anchors
	Root      RootKind
	Header             // of the first document's root mapping
	HasItems  bool     // the root mapping has a sequence under "items"
	Items     []Header // objects of the root sequence, or under items; others are zero
	ItemLists int      // items that are sequences themselves
}

// RootKind is the kind of the first document's root node.
type RootKind int

// Root node kinds.
const (
	RootNone RootKind = iota
	RootScalar
	RootSequence
	RootMapping
)

// Error is a YAML syntax error.
type Error struct {
	Line int // 1-based, 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("yaml: line %d: %s", e.Line, e.Msg)
	}
	return "yaml: " + e.Msg
}

type role int

const (
	roleNone role = iota
	roleRoot
	roleItems // a sequence whose entries are objects
	roleItem
)

type frame struct {
	mapping   bool
	expectKey bool
	isKey     bool // the collection is a mapping key (a complex key)
	key       string
	role      role
}

// Summarize reads every event of data and returns its summary. It keeps
// nothing but a stack as deep as the input's nesting (which the scanner
// caps at 10000).
func Summarize(data []byte) (sum *Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			sum, err = nil, &Error{Msg: fmt.Sprintf("parser failed: %v", r)}
		}
	}()
	var p yaml_parser_t
	yaml_parser_initialize(&p)
	yaml_parser_set_input_string(&p, data)
	defer yaml_parser_delete(&p)
	sum = &Summary{}
	var stack []*frame
	var ev yaml_event_t
	for {
		if !yaml_parser_parse(&p, &ev) {
			line := p.problem_mark.line
			if line == 0 {
				line = p.context_mark.line
			}
			msg := p.problem
			if msg == "" {
				msg = "unknown problem parsing YAML content"
			}
			if p.context != "" {
				msg = p.context + " " + msg
			}
			return nil, &Error{Line: line + 1, Msg: msg}
		}
		typ := ev.typ
		if typ == yaml_STREAM_END_EVENT {
			yaml_event_delete(&ev)
			return sum, nil
		}
		switch typ {
		case yaml_DOCUMENT_START_EVENT:
			sum.Documents++
		case yaml_SCALAR_EVENT, yaml_ALIAS_EVENT, yaml_SEQUENCE_START_EVENT, yaml_MAPPING_START_EVENT:
			sum.Nodes++
			if typ == yaml_ALIAS_EVENT || len(ev.anchor) > 0 {
				sum.Aliases++
			}
			child := sum.node(stack, typ, ev.value)
			if child != nil {
				stack = append(stack, child)
			}
		case yaml_SEQUENCE_END_EVENT, yaml_MAPPING_END_EVENT:
			done := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && !done.isKey {
				sum.valueDone(stack[len(stack)-1])
			}
		}
		yaml_event_delete(&ev)
	}
}

// node records a node event under the innermost open collection and
// returns the frame of a collection it opens.
func (s *Summary) node(stack []*frame, typ yaml_event_type_t, value []byte) *frame {
	isColl := typ == yaml_SEQUENCE_START_EVENT || typ == yaml_MAPPING_START_EVENT
	var child *frame
	if isColl {
		child = &frame{mapping: typ == yaml_MAPPING_START_EVENT, expectKey: true}
	}
	if len(stack) == 0 {
		if s.Documents > 1 {
			return child
		}
		switch typ {
		case yaml_MAPPING_START_EVENT:
			s.Root, child.role = RootMapping, roleRoot
		case yaml_SEQUENCE_START_EVENT:
			s.Root, child.role = RootSequence, roleItems
		default:
			s.Root = RootScalar
		}
		return child
	}
	parent := stack[len(stack)-1]
	if parent.mapping && parent.expectKey {
		parent.key = ""
		if typ == yaml_SCALAR_EVENT {
			parent.key = string(value)
			if parent.key == "<<" && (parent.role == roleRoot || parent.role == roleItem) {
				s.headerOf(parent).Merge = true
			}
		}
		parent.expectKey = false
		if child != nil {
			child.isKey = true
		}
		return child
	}
	switch parent.role {
	case roleRoot, roleItem:
		h := s.headerOf(parent)
		switch {
		case parent.key == "apiVersion" || parent.key == "kind":
			v := &h.APIVersion
			if parent.key == "kind" {
				v = &h.Kind
			}
			if *v != "" {
				h.Duplicate = true
			} else if typ == yaml_SCALAR_EVENT {
				*v = string(value)
			}
		case parent.role == roleRoot && typ == yaml_SEQUENCE_START_EVENT && parent.key == "items":
			s.HasItems, child.role = true, roleItems
		}
	case roleItems:
		s.Items = append(s.Items, Header{})
		switch typ {
		case yaml_MAPPING_START_EVENT:
			child.role = roleItem
		case yaml_SEQUENCE_START_EVENT:
			s.ItemLists++
		}
	}
	if !isColl {
		s.valueDone(parent)
	}
	return child
}

// headerOf is the header an object frame (the root or a list item) fills.
func (s *Summary) headerOf(f *frame) *Header {
	if f.role == roleRoot {
		return &s.Header
	}
	return &s.Items[len(s.Items)-1]
}

// valueDone notes that a mapping's value is complete: a key comes next.
func (s *Summary) valueDone(f *frame) {
	if f.mapping {
		f.expectKey = true
	}
}
