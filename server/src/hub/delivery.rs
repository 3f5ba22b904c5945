use app::protocol::{PeerId, ServerMsg};

/// Who a message goes to. A broadcast is one `Delivery` so the transport
/// encodes it once, whatever the number of recipients.
#[derive(Clone, Debug, PartialEq)]
pub enum To {
    One(PeerId),
    Many(Vec<PeerId>),
}

impl To {
    pub fn ids(&self) -> &[PeerId] {
        match self {
            To::One(id) => std::slice::from_ref(id),
            To::Many(ids) => ids,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub to: To,
    pub msg: ServerMsg,
}

impl Delivery {
    pub fn one(id: &PeerId, msg: ServerMsg) -> Self {
        Delivery { to: To::One(id.clone()), msg }
    }

    pub fn many(ids: Vec<PeerId>, msg: ServerMsg) -> Self {
        Delivery { to: To::Many(ids), msg }
    }
}
