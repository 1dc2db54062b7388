"""``torch.Tag``: the operator tags of PyTorch's custom-op registry (``torch.library.custom_op(..., tags=...)``,
``Tag.pt2_compliant_tag``...), as its pybind11 enum shows them: members by name and value, ``<Tag.core: 0>``,
``Tag.core``, ints through ``int()``/``__index__``. ember's registry keeps the tags it is given; no tag changes
how ember runs an op."""

_NAMES = ('core', 'cudagraph_unsafe', 'data_dependent_output', 'dynamic_output_shape', 'flexible_layout', 'generated',
          'inplace', 'inplace_view', 'maybe_aliasing_or_mutating', 'needs_contiguous_strides', 'needs_exact_strides',
          'needs_fixed_stride_order', 'nondeterministic_bitwise', 'nondeterministic_seeded', 'out', 'out_variant',
          'pointwise', 'pt2_compliant_tag', 'reduction', 'view_copy')


class pybind11_type(type):
    """The metaclass of PyTorch's C++-bound classes, by name."""

    def __call__(cls, value):
        """A tag by value: a new object equal to the member ('???' for a value no member has, as pybind11's)."""
        names = {m.value: name for name, m in cls.__members__.items()}
        return cls._make(names.get(int(value), '???'), int(value))


class Tag(metaclass=pybind11_type):
    """An operator tag (PyTorch's torch.Tag)."""
    __slots__ = ('name', 'value')

    @classmethod
    def _make(cls, name, value):
        member = object.__new__(cls)
        object.__setattr__(member, 'name', name)
        object.__setattr__(member, 'value', value)
        return member

    def __setattr__(self, key, value):
        raise AttributeError(f"'Tag' object attribute '{key}' is read-only")

    def __repr__(self):
        return f'<Tag.{self.name}: {self.value}>'

    def __str__(self):
        return f'Tag.{self.name}'

    def __int__(self):
        return self.value

    __index__ = __int__

    def __eq__(self, other):
        return type(other) is Tag and other.value == self.value

    def __hash__(self):
        return self.value

    def __reduce__(self):
        return Tag, (self.value,)


Tag.__members__ = {name: Tag._make(name, k) for k, name in enumerate(_NAMES)}
for _name, _member in Tag.__members__.items():
    setattr(Tag, _name, _member)
Tag.__module__ = 'torch'
