//! `event_enum!` declares a stream category's event enum together with its
//! type names, so the list of types, `event_type()`, decoding and the JSON
//! schemas are generated from one table and cannot drift apart.

/// Declares `enum $name { Variant(Payload) => "domain.entity.action", ... }`
/// and generates:
/// - `TYPES`: every type name of the category, in declaration order;
/// - `DomainEvent` (`event_type` by exhaustive match, `to_data`);
/// - `from_parts(type, data)` and `from_json(type, text)` to decode a
///   stored event;
/// - `data_schema(type)`: the JSON Schema of a type's payload;
/// - `From<Payload>` for each variant.
macro_rules! event_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($payload:ty) => $ty:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( $(#[$vmeta])* $variant($payload), )+
        }

        impl $name {
            /// Every event type of this category, in declaration order.
            pub const TYPES: &'static [&'static str] = &[$($ty),+];

            /// Decodes a stored event from its type name and data.
            pub fn from_parts(
                event_type: &str,
                data: &serde_json::Value,
            ) -> Result<Self, $crate::DecodeError> {
                Self::decode(event_type, data)
            }

            /// Decodes a stored event from its type name and data as JSON
            /// text, without building a generic JSON tree first.
            pub fn from_json(event_type: &str, data: &str) -> Result<Self, $crate::DecodeError> {
                let mut text = serde_json::Deserializer::from_str(data);
                let event = Self::decode(event_type, &mut text)?;
                text.end().map_err(|e| $crate::DecodeError::MalformedData {
                    event_type: event_type.to_owned(),
                    reason: e.to_string(),
                })?;
                Ok(event)
            }

            /// The payload of `event_type`, from any serde source.
            fn decode<'de, D: serde::Deserializer<'de>>(
                event_type: &str,
                data: D,
            ) -> Result<Self, $crate::DecodeError> {
                let malformed = |e: D::Error| $crate::DecodeError::MalformedData {
                    event_type: event_type.to_owned(),
                    reason: e.to_string(),
                };
                match event_type {
                    $( $ty => <$payload as serde::Deserialize>::deserialize(data)
                        .map(Self::$variant)
                        .map_err(malformed), )+
                    other => Err($crate::DecodeError::UnknownType(other.to_owned())),
                }
            }

            /// The JSON Schema of the payload (`data`) of `event_type`.
            pub fn data_schema(event_type: &str) -> Option<schemars::Schema> {
                match event_type {
                    $( $ty => Some(schemars::schema_for!($payload)), )+
                    _ => None,
                }
            }
        }

        impl $crate::DomainEvent for $name {
            fn event_type(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $ty, )+
                }
            }

            fn to_data(&self) -> serde_json::Value {
                let value = match self {
                    $( Self::$variant(payload) => serde_json::to_value(payload), )+
                };
                // Payloads are plain structs with string keys; serializing them
                // cannot fail.
                value.expect("event payloads always serialize")
            }
        }

        $(
            impl From<$payload> for $name {
                fn from(payload: $payload) -> Self {
                    Self::$variant(payload)
                }
            }
        )+
    };
}

pub(crate) use event_enum;
