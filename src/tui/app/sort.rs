//! The sessions list's order (`s` cycles it). A batch's rows and an advert's variants
//! stay together under their first row; groups are ordered by that row.

use crate::tui::action::SessionRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// As the store lists them: newest first.
    #[default]
    Newest,
    Oldest,
    Title,
    /// Best quality first; unscored last.
    Score,
    /// Dearest first.
    Cost,
}

impl SortBy {
    pub fn next(self) -> SortBy {
        match self {
            SortBy::Newest => SortBy::Oldest,
            SortBy::Oldest => SortBy::Title,
            SortBy::Title => SortBy::Score,
            SortBy::Score => SortBy::Cost,
            SortBy::Cost => SortBy::Newest,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SortBy::Newest => "newest",
            SortBy::Oldest => "oldest",
            SortBy::Title => "title",
            SortBy::Score => "score",
            SortBy::Cost => "cost",
        }
    }
}

/// `rows` (as the store groups them, newest first) in the order `by` asks, groups whole.
pub fn sorted(rows: Vec<SessionRow>, by: SortBy) -> Vec<SessionRow> {
    let mut groups: Vec<Vec<SessionRow>> = Vec::new();
    for r in rows {
        match groups.last_mut() {
            Some(g) if g[0].group_id() == r.group_id() => g.push(r),
            _ => groups.push(vec![r]),
        }
    }
    match by {
        SortBy::Newest => {}
        SortBy::Oldest => groups.reverse(),
        SortBy::Title => groups.sort_by_key(|g| g[0].title.to_lowercase()),
        SortBy::Score => groups.sort_by(|a, b| b[0].score.unwrap_or(-1.0).total_cmp(&a[0].score.unwrap_or(-1.0))),
        SortBy::Cost => groups.sort_by(|a, b| b[0].cost_usd.total_cmp(&a[0].cost_usd)),
    }
    groups.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, title: &str, score: Option<f64>, cost: f64, parent: Option<&str>) -> SessionRow {
        SessionRow {
            id: id.into(),
            title: title.into(),
            cost_usd: cost,
            score,
            group: parent.map(|_| "h2 of x".into()),
            group_key: parent.map(|p| (p.to_string(), 0, "h2".to_string())),
            ..Default::default()
        }
    }

    #[test]
    fn groups_move_whole_and_each_order_is_what_it_says() {
        // An advert with its variant under it, then two adverts, newest first.
        let rows = vec![row("c", "Candle", Some(70.0), 0.5, None), row("c2", "Candle", Some(90.0), 0.1, Some("c")), row("b", "apron", None, 2.0, None), row("a", "Bike", Some(80.0), 0.0, None)];
        let ids = |by| sorted(rows.clone(), by).into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(SortBy::Newest), ["c", "c2", "b", "a"]);
        assert_eq!(ids(SortBy::Oldest), ["a", "b", "c", "c2"]);
        assert_eq!(ids(SortBy::Title), ["b", "a", "c", "c2"], "case does not matter");
        assert_eq!(ids(SortBy::Score), ["a", "c", "c2", "b"], "by the advert's own score; unscored last");
        assert_eq!(ids(SortBy::Cost), ["b", "c", "c2", "a"]);
        let mut by = SortBy::Newest;
        for _ in 0..5 {
            by = by.next();
        }
        assert_eq!(by, SortBy::Newest, "s cycles through every order");
    }
}
