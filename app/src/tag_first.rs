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

/// Which variants a decoder is for (`deserialize_some`): the ones named, or
/// with `EXCEPT` all but those. Evaluated at compile time, so an instance for
/// a subset contains no decoder for the other variants: the browser's lobby
/// decodes its few messages without carrying the room's decoders, which live
/// in the room's lazily loaded code.
pub trait VariantFilter {
    /// Rust variant names.
    const NAMES: &'static [&'static str];
    const EXCEPT: bool;
}

/// Every variant.
pub struct AllVariants;

impl VariantFilter for AllVariants {
    const NAMES: &'static [&'static str] = &[];
    const EXCEPT: bool = true;
}

pub const fn wanted<F: VariantFilter>(variant: &str) -> bool {
    let mut i = 0;
    while i < F::NAMES.len() {
        if same(F::NAMES[i].as_bytes(), variant.as_bytes()) {
            return !F::EXCEPT;
        }
        i += 1;
    }
    F::EXCEPT
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

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

        impl $name {
            /// Every variant's Rust name, in declaration order.
            #[allow(dead_code)]
            pub const VARIANTS: &'static [&'static str] = &[$(stringify!($variant)),*];

            #[allow(dead_code)]
            pub fn variant_name(&self) -> &'static str {
                match self {
                    $($name::$variant { .. } => stringify!($variant)),*
                }
            }

            /// Decodes a message if `F` wants its variant; skips any other
            /// (its fields unread, the object consumed) as `None`.
            pub fn deserialize_some<'de, F, D>(deserializer: D) -> Result<Option<Self>, D::Error>
            where
                F: $crate::tag_first::VariantFilter,
                D: serde::Deserializer<'de>,
            {
                // serde derives the tag's spelling (and the "unknown
                // variant" error) from the same names and `rename_all`.
                #[derive(serde::Deserialize)]
                #[serde(rename_all = $rename)]
                enum Tag {
                    $($variant),*
                }

                struct TagFirst<F>(std::marker::PhantomData<F>);

                impl<'de, F: $crate::tag_first::VariantFilter> serde::de::Visitor<'de> for TagFirst<F> {
                    type Value = Option<$name>;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("an object whose first field is `", $tag, "`"))
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Option<$name>, A::Error> {
                        use serde::de::{Error as _, IgnoredAny};
                        if map.next_key::<String>()?.as_deref() != Some($tag) {
                            return Err(A::Error::custom(concat!("`", $tag, "` must be the first field")));
                        }
                        let tag: Tag = map.next_value()?;
                        match tag {
                            $(
                                Tag::$variant if const { $crate::tag_first::wanted::<F>(stringify!($variant)) } => {
                                    #[derive(serde::Deserialize)]
                                    struct Fields {
                                        $($( $(#[$field_attr])* $field: $ty ),*)?
                                    }
                                    let rest = serde::de::value::MapAccessDeserializer::new(map);
                                    #[allow(unused_variables)]
                                    let fields = <Fields as serde::Deserialize>::deserialize(rest)?;
                                    Ok(Some($name::$variant $({ $($field: fields.$field),* })?))
                                }
                            )*
                            _ => {
                                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                                Ok(None)
                            }
                        }
                    }
                }

                deserializer.deserialize_map(TagFirst::<F>(std::marker::PhantomData))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                Self::deserialize_some::<$crate::tag_first::AllVariants, D>(deserializer)?
                    .ok_or_else(|| D::Error::custom("unreachable: every variant is wanted"))
            }
        }
    };
}
