//! Records of several ring buffers (one per CPU) put back in time order.
//! The kernel writes each buffer in order, so the next record overall is
//! the earliest of the buffers' next ones. A record is taken only once its
//! time has passed a bound: every record stamped before the moment the
//! buffers were looked at has been written by then, so none earlier can
//! turn up later in another buffer.

/// A queue of records in time order.
pub trait Queue {
    /// The time of the next record, if one is there now.
    fn next_time(&self) -> Option<u64>;
}

impl Queue for super::ring::Ring {
    fn next_time(&self) -> Option<u64> {
        super::ring::Ring::next_time(self)
    }
}

/// Calls `take` with the queue whose next record is the earliest of all,
/// again and again, while that record's time is at most `until`; `take`
/// must remove that record. Returns how many records were taken.
pub fn in_time_order<Q: Queue>(queues: &mut [Q], until: u64, mut take: impl FnMut(&mut Q)) -> u64 {
    let mut taken = 0;
    while let Some(index) = earliest(queues, until) {
        take(&mut queues[index]);
        taken += 1;
    }
    taken
}

/// The queue whose next record is the earliest, if it is at most `until`.
fn earliest<Q: Queue>(queues: &[Q], until: u64) -> Option<usize> {
    queues
        .iter()
        .enumerate()
        .filter_map(|(index, queue)| Some((queue.next_time()?, index)))
        .filter(|&(time, _)| time <= until)
        .min()
        .map(|(_, index)| index)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use proptest::prelude::*;

    use super::*;

    impl Queue for VecDeque<u64> {
        fn next_time(&self) -> Option<u64> {
            self.front().copied()
        }
    }

    fn queues(times: &[Vec<u64>]) -> Vec<VecDeque<u64>> {
        times
            .iter()
            .map(|times| {
                let mut sorted = times.clone();
                sorted.sort_unstable();
                sorted.into()
            })
            .collect()
    }

    #[test]
    fn records_of_two_buffers_interleave_by_time() {
        let mut queues = queues(&[vec![1, 4, 9], vec![2, 3, 10]]);
        let mut order = Vec::new();
        in_time_order(&mut queues, 9, |q| order.push(q.pop_front().unwrap()));
        assert_eq!(order, [1, 2, 3, 4, 9]);
        assert_eq!(queues[1], [10], "a record after the bound waits");
    }

    proptest! {
        #[test]
        fn every_record_up_to_the_bound_is_taken_once_in_order(
            times in prop::collection::vec(prop::collection::vec(0u64..1000, 0..30), 0..6),
            until in 0u64..1100,
        ) {
            let mut queues = queues(&times);
            let mut order = Vec::new();
            let taken = in_time_order(&mut queues, until, |q| order.push(q.pop_front().unwrap()));
            prop_assert_eq!(taken as usize, order.len());
            prop_assert!(order.windows(2).all(|w| w[0] <= w[1]));
            let mut expected: Vec<u64> = times.iter().flatten().copied().filter(|&t| t <= until).collect();
            expected.sort_unstable();
            prop_assert_eq!(order, expected);
            prop_assert!(queues.iter().flatten().all(|&t| t > until));
        }
    }
}
