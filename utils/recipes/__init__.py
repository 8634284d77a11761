"""One module per lab: its recipe (sizes per profile) and the glue its notebook calls. A recipe imports the library
layers only, never another lab's recipe: what two labs share lives lower down."""
