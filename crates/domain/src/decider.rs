//! The decider shape shared by every aggregate, and a given/when/then
//! harness to test deciders with.

/// An aggregate as a pair of pure functions.
pub trait Decider {
    type State: Default + Clone + std::fmt::Debug + PartialEq;
    type Command;
    type Event: Clone + std::fmt::Debug + PartialEq;
    type Error: std::fmt::Debug + PartialEq;

    /// Turns a command into the events it causes, or refuses it.
    fn decide(state: &Self::State, command: Self::Command)
    -> Result<Vec<Self::Event>, Self::Error>;

    /// Applies one recorded event. Total: an event that does not fit the
    /// state leaves it unchanged (history is never rejected).
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Folds a history from the default state.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), Self::evolve)
    }
}

pub mod testing {
    //! `given(history).when(command).then(events)`: the one way domain tests
    //! are written.
    use super::Decider;

    /// Starts a scenario from a history of events.
    pub fn given<D: Decider>(history: Vec<D::Event>) -> Given<D> {
        Given { history }
    }

    #[derive(Debug)]
    pub struct Given<D: Decider> {
        history: Vec<D::Event>,
    }

    #[derive(Debug)]
    pub struct When<D: Decider> {
        state: D::State,
        result: Result<Vec<D::Event>, D::Error>,
    }

    impl<D: Decider> Given<D> {
        /// Decides `command` against the folded history.
        pub fn when(self, command: D::Command) -> When<D> {
            let state = D::fold(&self.history);
            let result = D::decide(&state, command);
            When { state, result }
        }
    }

    impl<D: Decider> When<D> {
        /// Asserts the exact events and returns the state after them.
        #[track_caller]
        pub fn then(self, expected: Vec<D::Event>) -> D::State {
            match self.result {
                Ok(events) => {
                    assert_eq!(events, expected, "unexpected events");
                    events.iter().fold(self.state, D::evolve)
                }
                Err(e) => panic!("expected events, got refusal {e:?}"),
            }
        }

        /// Asserts the refusal.
        #[track_caller]
        pub fn then_error(self, expected: D::Error) {
            match self.result {
                Ok(events) => panic!("expected refusal {expected:?}, got events {events:?}"),
                Err(e) => assert_eq!(e, expected),
            }
        }

        /// Returns the events for assertions that don't fit `then`.
        #[track_caller]
        pub fn events(self) -> Vec<D::Event> {
            match self.result {
                Ok(events) => events,
                Err(e) => panic!("expected events, got refusal {e:?}"),
            }
        }
    }
}
