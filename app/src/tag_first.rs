//! Internally tagged enums whose decoder reads the tag first.
//!
//! serde's derive for `#[serde(tag = "...")]` buffers every message into its
//! generic `Content` tree before it knows the variant, and emits that
//! machinery again for every variant and nested type: for the server's
//! messages it was about an eighth of the browser's wasm. Our encoder (serde's
//! own) always writes the tag first, so the decoder can read the tag, then
//! hand the rest of the same JSON object to a plain struct decoder for that
//! variant. The wire format is unchanged; a message whose tag is not its
//! first field is refused.

/// Declares the enum as written (plus `#[serde(tag, rename_all)]` for its
/// `Serialize` derive) and implements `Deserialize` the tag-first way. The
/// variants' field attributes apply to both directions.
macro_rules! tag_first_enum {
    (
        #[tag = $tag:literal, rename_all = $rename:literal]
        $(#[$enum_attr:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$variant_attr:meta])*
                $variant:ident $({
                    $( $(#[$field_attr:meta])* $field:ident : $ty:ty ),* $(,)?
                })?
            ),* $(,)?
        }
    ) => {
        $(#[$enum_attr])*
        #[serde(tag = $tag, rename_all = $rename)]
        $vis enum $name {
            $(
                $(#[$variant_attr])*
                $variant $({ $( $(#[$field_attr])* $field: $ty ),* })?
            ),*
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // serde derives the tag's spelling (and the "unknown
                // variant" error) from the same names and `rename_all`.
                #[derive(serde::Deserialize)]
                #[serde(rename_all = $rename)]
                enum Tag {
                    $($variant),*
                }

                struct TagFirst;

                impl<'de> serde::de::Visitor<'de> for TagFirst {
                    type Value = $name;

                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("an object whose first field is `", $tag, "`"))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        use serde::de::Error as _;
                        if map.next_key::<String>()?.as_deref() != Some($tag) {
                            return Err(A::Error::custom(concat!("`", $tag, "` must be the first field")));
                        }
                        let tag: Tag = map.next_value()?;
                        let rest = serde::de::value::MapAccessDeserializer::new(map);
                        match tag {
                            $(
                                Tag::$variant => {
                                    #[derive(serde::Deserialize)]
                                    struct Fields {
                                        $($( $(#[$field_attr])* $field: $ty ),*)?
                                    }
                                    #[allow(unused_variables)]
                                    let fields = <Fields as serde::Deserialize>::deserialize(rest)?;
                                    Ok($name::$variant $({ $($field: fields.$field),* })?)
                                }
                            )*
                        }
                    }
                }

                deserializer.deserialize_map(TagFirst)
            }
        }
    };
}
