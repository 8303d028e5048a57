//! A role's models in fallback order (`[roles.video] chain = [...]`). The pipeline walks
//! the chain itself, so a job's record names the model that really has it.

use std::sync::Arc;

use super::MediaModel;

pub struct Chain<M: ?Sized> {
    members: Vec<Arc<M>>,
}

impl<M: ?Sized> Clone for Chain<M> {
    fn clone(&self) -> Self {
        Chain { members: self.members.clone() }
    }
}

impl<M: ?Sized> Chain<M> {
    /// A chain of at least one model.
    pub fn new(members: Vec<Arc<M>>) -> Option<Chain<M>> {
        (!members.is_empty()).then_some(Chain { members })
    }

    pub fn one(model: Arc<M>) -> Chain<M> {
        Chain { members: vec![model] }
    }

    pub fn members(&self) -> &[Arc<M>] {
        &self.members
    }

    /// The model tried first.
    pub fn head(&self) -> &Arc<M> {
        &self.members[0]
    }
}

impl<R: Send + Sync> Chain<dyn MediaModel<R>> {
    /// Every member's id, in order: part of cache keys, so a new chain renders anew.
    pub fn id(&self) -> String {
        self.members.iter().map(|m| m.id()).collect::<Vec<_>>().join(" > ")
    }

    /// What the first model would charge (the one a run expects to use).
    pub fn estimate_usd(&self, req: &R) -> Option<f64> {
        self.head().estimate_usd(req)
    }

    pub fn is_remote(&self) -> bool {
        self.members.iter().any(|m| m.is_remote())
    }
}
