//! The "perfect negotiation" rules for one peer connection, as plain state.
//!
//! Both ends may start an offer at the same moment (glare). One end is
//! *polite*: on a collision it drops its own offer and answers the other's.
//! The *impolite* end ignores the colliding offer and waits for its answer.
//! Which end is which comes from the peer ids, so both agree without
//! talking. The browser glue asks this machine what to do at each event.

use crate::protocol::{PeerId, SdpType};

/// What to do with a remote description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDescription {
    /// Our own offer wins the collision: drop theirs, and drop the ICE
    /// candidates that belong to it.
    Ignore,
    /// Apply it (the browser rolls back our pending offer implicitly), and
    /// answer if `answer` is set.
    Apply { answer: bool },
}

/// What to do with a remote ICE candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCandidate {
    Add,
    /// No remote description yet: keep it until there is one.
    Queue,
    /// It belongs to an offer we ignored.
    Drop,
}

#[derive(Clone, Debug)]
pub struct Negotiation {
    pub polite: bool,
    making_offer: bool,
    ignore_offer: bool,
    settling_answer: bool,
    has_remote_description: bool,
}

impl Negotiation {
    /// The lower id is polite; both ends compute the same split.
    pub fn new(me: &PeerId, them: &PeerId) -> Self {
        Negotiation {
            polite: me < them,
            making_offer: false,
            ignore_offer: false,
            settling_answer: false,
            has_remote_description: false,
        }
    }

    /// `negotiationneeded` fired: we start an offer. Returns false if one is
    /// already being made (the browser fires the event again when needed).
    pub fn begin_offer(&mut self) -> bool {
        if self.making_offer {
            return false;
        }
        self.making_offer = true;
        true
    }

    /// Our offer was set locally and sent (or failed).
    pub fn end_offer(&mut self) {
        self.making_offer = false;
    }

    /// A description arrived. `stable` is whether the connection's
    /// signaling state is "stable" right now.
    pub fn on_description(&mut self, kind: SdpType, stable: bool) -> OnDescription {
        let is_offer = kind == SdpType::Offer;
        let ready_for_offer = !self.making_offer && (stable || self.settling_answer);
        let collision = is_offer && !ready_for_offer;
        self.ignore_offer = !self.polite && collision;
        if self.ignore_offer {
            return OnDescription::Ignore;
        }
        self.settling_answer = kind == SdpType::Answer;
        OnDescription::Apply { answer: is_offer }
    }

    /// The remote description was applied (or failed to apply).
    pub fn description_applied(&mut self, ok: bool) {
        self.settling_answer = false;
        if ok {
            self.has_remote_description = true;
        }
    }

    pub fn on_candidate(&self) -> OnCandidate {
        if self.ignore_offer {
            OnCandidate::Drop
        } else if !self.has_remote_description {
            OnCandidate::Queue
        } else {
            OnCandidate::Add
        }
    }

    /// Whether a failed `addIceCandidate` is an error worth reporting: not
    /// when the candidate belonged to an offer we ignored.
    pub fn candidate_error_matters(&self) -> bool {
        !self.ignore_offer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Negotiation, Negotiation) {
        let a = PeerId("aaa".into());
        let b = PeerId("bbb".into());
        (Negotiation::new(&a, &b), Negotiation::new(&b, &a))
    }

    #[test]
    fn exactly_one_side_is_polite() {
        let (a, b) = pair();
        assert!(a.polite);
        assert!(!b.polite);
    }

    #[test]
    fn plain_offer_answer() {
        let (mut a, mut b) = pair();
        assert!(b.begin_offer());
        assert!(!b.begin_offer(), "one offer at a time");
        b.end_offer();
        assert_eq!(a.on_description(SdpType::Offer, true), OnDescription::Apply { answer: true });
        a.description_applied(true);
        assert_eq!(b.on_description(SdpType::Answer, false), OnDescription::Apply { answer: false });
        b.description_applied(true);
        assert_eq!(a.on_candidate(), OnCandidate::Add);
        assert_eq!(b.on_candidate(), OnCandidate::Add);
    }

    #[test]
    fn glare_the_impolite_side_ignores_and_the_polite_side_yields() {
        let (mut polite, mut impolite) = pair();
        // Both start offers at once and each receives the other's.
        assert!(polite.begin_offer());
        assert!(impolite.begin_offer());
        assert_eq!(impolite.on_description(SdpType::Offer, false), OnDescription::Ignore);
        assert_eq!(impolite.on_candidate(), OnCandidate::Drop);
        assert!(!impolite.candidate_error_matters());
        // The polite side applies the colliding offer (rolling back its own).
        assert_eq!(polite.on_description(SdpType::Offer, false), OnDescription::Apply { answer: true });
        polite.description_applied(true);
        polite.end_offer();
        // The impolite side's offer is answered; its answer goes through.
        impolite.end_offer();
        assert_eq!(impolite.on_description(SdpType::Answer, false), OnDescription::Apply { answer: false });
        impolite.description_applied(true);
        assert_eq!(impolite.on_candidate(), OnCandidate::Add, "no longer ignoring");
    }

    #[test]
    fn an_offer_while_making_one_collides_even_if_stable() {
        // setLocalDescription has not run yet: still "stable", but making an offer.
        let (mut polite, mut impolite) = pair();
        impolite.begin_offer();
        assert_eq!(impolite.on_description(SdpType::Offer, true), OnDescription::Ignore);
        polite.begin_offer();
        assert_eq!(polite.on_description(SdpType::Offer, true), OnDescription::Apply { answer: true });
    }

    #[test]
    fn an_offer_right_after_our_answer_is_settling_is_not_a_collision() {
        let (_, mut impolite) = pair();
        impolite.begin_offer();
        impolite.end_offer();
        assert_eq!(impolite.on_description(SdpType::Answer, false), OnDescription::Apply { answer: false });
        // The answer is still being applied (state not yet stable) when a
        // new offer arrives: that is fine, it is queued behind it.
        assert_eq!(impolite.on_description(SdpType::Offer, false), OnDescription::Apply { answer: true });
    }

    #[test]
    fn early_candidates_wait_for_the_remote_description() {
        let (mut a, _) = pair();
        assert_eq!(a.on_candidate(), OnCandidate::Queue);
        a.on_description(SdpType::Offer, true);
        assert_eq!(a.on_candidate(), OnCandidate::Queue, "not applied yet");
        a.description_applied(false);
        assert_eq!(a.on_candidate(), OnCandidate::Queue, "a failed apply sets nothing");
        a.on_description(SdpType::Offer, true);
        a.description_applied(true);
        assert_eq!(a.on_candidate(), OnCandidate::Add);
    }
}
